import type { ConsoleChildHistoryQuery } from '../operations';

/** The child's history as the console asks for it: what every section of the history page reads. */
export type ChildHistory = ConsoleChildHistoryQuery['childHistory'];
