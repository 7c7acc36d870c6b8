"""The prompt templates, shipped inside the package as `rag.prompts`; edit the .md files here
(README.md says how they are written and checked)."""
