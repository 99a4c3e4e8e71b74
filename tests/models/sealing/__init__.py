"""Tests of models.sealing."""
