"""Rendering and tokenizing a (prompt, completion) row with transformers' tokenizer, as the engine does
with its own (src/engine/logps.ts renderRow + tokenizeRow, TRL's rules): plain text is tokenized without
special tokens, prompt and completion separately, EOS appended to the completion; conversational rows go
through the chat template (prompt = the common prefix of the prompt rendered with the generation prompt
and the full conversation; completion = the rest of the conversation) or, without a template,
"role: content\\n" lines then "assistant: " with EOS after the completion. The host tokenizes the training
data; this is used where Python makes new rows (SPIN's generations) and by the cross-stack token test."""


def _messages(x, role: str) -> list:
    return [{"role": role, "content": x}] if isinstance(x, str) else list(x)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def render_row(tokenizer, prompt, completion):
    """(prompt text, completion text, append EOS?) of a row."""
    if isinstance(prompt, str) and isinstance(completion, str):
        return prompt, completion, True
    pm, cm = _messages(prompt, "user"), _messages(completion, "assistant")
    if getattr(tokenizer, "chat_template", None):
        with_gen = tokenizer.apply_chat_template(pm, add_generation_prompt=True, tokenize=False)
        if not cm:
            return with_gen, "", False
        full = tokenizer.apply_chat_template(pm + cm, add_generation_prompt=False, tokenize=False)
        p = with_gen[: _common_prefix(with_gen, full)]
        return p, full[len(p):], False
    p = "".join(f"{m['role']}: {m['content']}\n" for m in pm) + "assistant: "
    return p, "\n".join(m["content"] for m in cm), True


def tokenize_row(tokenizer, prompt, completion, eos_id: int, bos_id, max_length: int = 1024, max_prompt: int = 512):
    """(prompt ids, completion ids) after the engine's truncation: the prompt keeps its end, the
    completion its start, at least one completion token; an empty prompt becomes BOS (or EOS)."""
    if max_length < 2:
        raise ValueError(f"maxLength must be at least 2 (got {max_length})")
    pt, ct, append_eos = render_row(tokenizer, prompt, completion)
    enc = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"] if s else []  # noqa: E731
    p, c = enc(pt), enc(ct)
    if append_eos or not c:
        c = c + [eos_id]
    if not p:
        p = [bos_id if bos_id is not None else eos_id]
    if len(p) > max_prompt:
        p = p[-max(1, max_prompt):]
    if len(p) + len(c) > max_length:
        if len(p) > max_length - 1:
            p = p[-(max_length - 1):]
        c = c[: max_length - len(p)]
    return p, c
