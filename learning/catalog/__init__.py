"""Files on disk (content/, quizzes/) loaded into frozen dataclasses; never the database."""
