"""Storage engines behind one interface (``base.Store``). Each engine compiles the checked AST itself."""
