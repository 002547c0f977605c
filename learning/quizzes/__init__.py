"""Quizzes: definitions, question types and grading, attempts, statistics, GIFT."""
