"""Retrieval and answer evaluation (question sets and reports live in the top-level evals/)."""
