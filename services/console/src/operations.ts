// The typed operations of packages/client (codegen TypedDocumentNode), without its Node client.
export * from '../../../packages/client/src/__generated__/graphql';
