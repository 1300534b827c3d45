"""The style sheet every HTML report shares (inlined: the pages open with no network)."""

__all__ = ["CSS"]

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1320px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }
td { white-space: nowrap; } td.note { white-space: normal; min-width: 220px; text-align: left; }
th:first-child, td:first-child, th.l, td.l { text-align: left; }
.note { color: #555; font-size: 12px; } .bad { color: #b2182b; } .good { color: #1b7837; }
iframe { width: 100%; height: 600px; border: 1px solid #ccc; margin-bottom: 10px; }
"""
