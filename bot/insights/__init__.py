"""Insights drawn from our own tables: the chart, the weekly digest's text and blocks."""
