// The api part's public surface: GraphQL, upload and proof routes, exports and provenance reports (issue #3).
// Nothing is exported yet; other parts import this part only through this file once it exists.
export {};
