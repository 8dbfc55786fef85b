// Import first in a benchmark: the libraries load in the mode the deployed image runs them in.
// deploy/Dockerfile sets NODE_ENV=production, and graphql-js then checks types with a plain
// instanceof instead of its development check (which looks up a class name on every failed
// check, several per resolved field: about 3 ms of a federated query). The benchmarks' nodes run
// with MCX_ENV=test (the development token issuer), which the node refuses beside
// NODE_ENV=production, so NODE_ENV is set only while graphql loads, then removed again.
const before = process.env.NODE_ENV;
process.env.NODE_ENV = 'production';
await import('graphql');
if (before === undefined) delete process.env.NODE_ENV;
else process.env.NODE_ENV = before;
