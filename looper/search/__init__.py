"""Schedule search: candidate generation in LOOPer's phases, beam search, evaluators."""

from looper.search.beam import Evaluator, SearchResult, SearchStats, beam_search
from looper.search.candidates import Space
from looper.search.evaluators import AnalyticalEvaluator, RandomEvaluator

__all__ = [
    "AnalyticalEvaluator",
    "Evaluator",
    "RandomEvaluator",
    "SearchResult",
    "SearchStats",
    "Space",
    "beam_search",
]
