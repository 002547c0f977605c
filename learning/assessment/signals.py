"""What assessment announces to the domains above it, so assessment never imports them."""

from blinker import Namespace

_signals = Namespace()

#: Sent inside the release transaction when an assessor releases a decision; receivers get
#: the decision as sender and `submission=`, `now=`. IQA closes open actions on the
#: submission and considers the decision for its sample (learning.iqa.reviews).
decision_released = _signals.signal("decision-released")
