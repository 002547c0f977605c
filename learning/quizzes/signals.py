"""What quizzes announce to the domains above them, so quizzes never import those domains."""

from blinker import Namespace

_signals = Namespace()

#: Sent once when a submitted attempt passes a quiz that counts toward completion;
#: receivers get the attempt as sender and `user=`, `modules=` (the quiz's modules).
#: The course marks those modules complete (learning.course.progress).
quiz_passed = _signals.signal("quiz-passed")
