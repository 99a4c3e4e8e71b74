"""Tests of models.values."""
