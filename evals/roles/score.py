"""Per-role precision / recall / F1 on the hand-labelled sample (see
``evidence_finder.evaluation.roles``). Usage: python evals/roles/score.py [labels.jsonl] [--errors dev]"""

from evidence_finder.evaluation.roles import format_table, main, role_scores  # noqa: F401 - for importers

if __name__ == "__main__":
    main()
