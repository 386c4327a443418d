"""codegen: isl AST to C, splicing into the source file, and building with a real compiler."""
