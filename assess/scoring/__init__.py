"""The scoring engine: pure functions from a questionnaire and answers to scores.

This package imports nothing from Flask, SQLAlchemy or the application's models. It never
touches a database: callers hand it plain data and store what it returns.
"""

from assess.scoring.engine import DimensionScore, ResponseScore, score_response
from assess.scoring.rounding import round_half_away
from assess.scoring.whatif import Lift, Step, best_answer, lift

__all__ = [
    "DimensionScore",
    "Lift",
    "ResponseScore",
    "Step",
    "best_answer",
    "lift",
    "round_half_away",
    "score_response",
]
