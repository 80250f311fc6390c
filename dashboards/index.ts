// The dashboards part's public surface: the contributor earnings, provenance and ModelFactory pages (later issues).
// Nothing is exported yet; other parts import this part only through this file once it exists.
export {};
