"""The query language: text → tokens (lexer) → AST with spans (parser) → checked AST (check).

Engines compile the checked AST; they never see expression text.
"""
