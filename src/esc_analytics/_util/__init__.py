"""Private helpers shared by every stage: errors, atomic writes, escaping, times, formatting.

Nothing here is public API except the exception classes, which ``esc_analytics`` re-exports.
"""
