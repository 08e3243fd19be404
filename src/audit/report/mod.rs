//! Claims, verdicts, and the report in Markdown, JSON and self-contained HTML.
