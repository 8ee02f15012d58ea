"""PDF scorecards: one agency's results in a round, beautiful in Thai, archival (PDF/A-3b).

- :mod:`~assess.scorecards.svg`: the radar as vector SVG, from ``AgencyResults.radar()``;
- :mod:`~assess.scorecards.render`: the HTML (Jinja, Babel) and the verification code;
- :mod:`~assess.scorecards.pdf`: WeasyPrint (no Flask: bulk worker processes import it);
- :mod:`~assess.scorecards.fetcher`: the only resources a scorecard may load;
- :mod:`~assess.scorecards.bulk`: every scorecard of a round in one archive (a job);
- :mod:`~assess.scorecards.routes`, :mod:`~assess.scorecards.cli`: where they are asked for.

Kept free of imports here: worker processes import :mod:`assess.scorecards.pdf` alone.
"""
