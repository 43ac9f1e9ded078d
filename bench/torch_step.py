"""The PyTorch side of bench/torch.bench.ts: a nanoGPT-shaped GPT-2 (pre-LayerNorm, tanh GELU, tied head)
trained with torch.optim.AdamW on random tokens, the same shape and step as the engine's benchmark.
Usage: python3 torch_step.py L D H T B V STEPS; prints one JSON line (step_ms, tokens_per_s, threads, blas).
Threads come from OMP_NUM_THREADS (set by the caller)."""
import json, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

L, D, H, T, B, V, STEPS = [int(x) for x in sys.argv[1:8]]
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn, self.proj = nn.LayerNorm(D), nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.ln2, self.fc, self.fc2 = nn.LayerNorm(D), nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

    def forward(self, x):
        q, k, v = self.attn(self.ln1(x)).split(D, 2)
        heads = lambda t: t.view(B, T, H, D // H).transpose(1, 2)  # (B, H, T, Dh)
        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True).transpose(1, 2).reshape(B, T, D)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc(self.ln2(x)), approximate='tanh'))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.lnf = nn.LayerNorm(D)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        return F.linear(self.lnf(x), self.wte.weight)  # (B, T, V), tied head


model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
idx = torch.randint(0, V, (B, T))


def step():
    logits = model(idx)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), idx[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


step()
t0 = time.perf_counter()
for _ in range(STEPS):
    step()
dt = (time.perf_counter() - t0) / STEPS
blas = 'unknown'
with open('/proc/self/maps') as maps:
    libs = {line.split()[-1] for line in maps if 'blas' in line}
blas = ', '.join(sorted(libs)) or blas
print(json.dumps({'step_ms': dt * 1000, 'tokens_per_s': B * T / dt, 'threads': torch.get_num_threads(), 'blas': blas,
                  'cpu_capability': torch.backends.cpu.get_cpu_capability(), 'torch': torch.__version__}))
