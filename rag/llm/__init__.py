"""LLM: chat models behind one small protocol, and the prompts they are given.

model.py defines `ChatModel` (complete, stream, yes/no probability, capability fields);
providers.py serves any litellm provider and the embedded model; local.py runs the embedded
Qwen2.5-Coder-1.5B in-process with llama.cpp; prompts.py loads the packaged prompt files.
"""
