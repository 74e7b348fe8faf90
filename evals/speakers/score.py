"""Speaker precision / recall on the hand-labelled quotes (see
``evidence_finder.evaluation.speakers``). Usage: python evals/speakers/score.py [--show-errors]"""

from evidence_finder.evaluation.speakers import main, speaker_scores  # noqa: F401 - for importers

if __name__ == "__main__":
    main()
