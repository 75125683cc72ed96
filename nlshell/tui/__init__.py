"""Interactive front ends' shared pieces and the Textual TUI (``nlsh``).

Importing this package does not import Textual: ``nlshell.tui.common`` is
shared with the line mode; the app lives in ``nlshell.tui.app``.
"""
