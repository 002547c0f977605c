"""The learner's course: progress through modules, module pages, overview and glossary."""
