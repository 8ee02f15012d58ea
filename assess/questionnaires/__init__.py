"""Questionnaire files: the format's data model, loader and validator, conditions and diff.

This package imports nothing from Flask, SQLAlchemy or the application's models: it is
plain Python that the web app, the command line and the tests all share.
"""

from assess.questionnaires.loader import Problem, QuestionnaireError, load, loads, validate
from assess.questionnaires.model import (
    Dimension,
    Level,
    LocalizedText,
    Option,
    Question,
    Questionnaire,
    QuestionType,
)

__all__ = [
    "Dimension",
    "Level",
    "LocalizedText",
    "Option",
    "Problem",
    "Question",
    "QuestionType",
    "Questionnaire",
    "QuestionnaireError",
    "load",
    "loads",
    "validate",
]
