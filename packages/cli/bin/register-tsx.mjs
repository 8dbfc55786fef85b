// Loads tsx from this package's own dependencies, so `mcx` runs from any working directory
// (`node --import tsx` would resolve tsx from the caller's directory instead).
import { register } from 'tsx/esm/api';

register();
