"""Follow-up to victims: /status REF CODE, the deep link, and the status view's buttons.

Follow-up buttons' callback data start with "f:". Where these handlers stand among the others:
handlers/routing.py (a plain /start and every message that is not the answer to a follow-up
question fall through to the conversation).
"""
