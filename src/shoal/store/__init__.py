"""Storage engines behind one interface (``base.Store``), each a package named by one line of ``registry.ENGINES``;
each compiles the engine-neutral plan (``plan.py``, lowered from the checked AST) itself."""
