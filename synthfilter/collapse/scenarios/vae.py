"""The vae scenario: an MLP variational autoencoder on scikit-learn's 8x8 digits, trained with torch on the CPU.

torch is imported inside the functions, so ``import synthfilter`` does not load it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..metrics import w2_gaussian
from .base import Scenario

__all__ = ["VAEScenario", "seeded_torch", "torch_threads"]


@contextmanager
def torch_threads(threads: int) -> Iterator[Any]:
    """``torch`` with ``threads`` intra-op threads inside the block (the previous count is restored after it)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield torch
    finally:
        torch.set_num_threads(old)


@contextmanager
def seeded_torch(rng: np.random.Generator, threads: int) -> Iterator[tuple[Any, Any]]:
    """``(torch, generator)`` with every torch random number drawn from ``rng``.

    One seed is drawn from ``rng``. Inside the block torch's global generator (which module
    initialisation uses) is seeded with it and restored afterwards, ``generator`` is a
    ``torch.Generator`` seeded from it for everything else, and torch uses ``threads``
    intra-op threads (results repeat bit for bit at a fixed thread count).

    Parameters
    ----------
    rng:
        The numpy generator the runner passes to a scenario hook.
    threads:
        torch threads inside the block (the previous count is restored after it).
    """
    seed = int(rng.integers(2**62))
    with torch_threads(threads) as torch, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield torch, torch.Generator().manual_seed(seed + 1)


def _build_vae(pixels: int, hidden: int, latent: int) -> Any:
    """An MLP VAE ``pixels-hidden-hidden-latent`` (encoder) and its mirror (decoder, logits per pixel)."""
    from torch import nn

    class VAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.latent = latent
            self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                         nn.Linear(hidden, 2 * latent))
            self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                         nn.Linear(hidden, pixels))

        def encode(self, x):
            h = self.encoder(x)
            return h[:, :self.latent], h[:, self.latent:]

    return VAE()


def _neg_elbo(net: Any, x: Any, noise: Any | None) -> Any:
    """Per-row negative ELBO (Bernoulli pixels, standard normal prior); ``noise=None`` decodes the posterior mean."""
    import torch.nn.functional as F

    mu, logvar = net.encode(x)
    z = mu if noise is None else mu + noise * (0.5 * logvar).exp()
    rec = F.binary_cross_entropy_with_logits(net.decoder(z), x, reduction="none").sum(dim=1)
    kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)
    return rec + kl


@dataclass
class VAEScenario(Scenario):
    """An MLP VAE (64-256-256-latent 8, mirrored decoder) on scikit-learn's 8x8 digits, refit from scratch each generation.

    Pixels are scaled to [0, 1] and modelled as Bernoulli probabilities (binary cross-entropy
    on the decoder's logits); a sample is the decoder's mean image of a latent drawn from the
    standard normal prior. The digits are split by index as in the ``digits`` scenario: real
    data are drawn (with replacement) from the even rows, and every metric is measured on the
    odd rows, held out, or with a classifier and a PCA space fitted to the even rows.

    Training takes ``epochs * ceil(n / batch_size)`` Adam steps on minibatches drawn with
    replacement from the training pool, so every generation gets the same compute whatever
    the pool's size (``accumulate``'s pool grows each generation). The default 100 epochs
    take about 5 s on one CPU thread at n = 1000 (``benchmarks/collapse_vae.py``).

    Metrics: ``class_coverage``, the share of the 10 digit classes that get at least 1% of
    2000 generated digits, and ``class_entropy``, the entropy of the predicted classes over
    log 10, both by a logistic regression trained on the real training half; ``fid``, the
    Frechet distance (squared W2) between Gaussians fitted to 2000 generated and the held-out
    real digits in a fixed 16-d PCA space of the training half; ``latent_std``, the standard
    deviation of the encoder's posterior means over the held-out real digits, averaged over
    latent dimensions (Shumailov et al. report a VAE's latent std shrinking from 0.67 to 0.43
    in five generations); ``nll_real``, the negative ELBO of the held-out digits with the
    posterior mean decoded (nats per digit).

    Parameters
    ----------
    n:
        Digits per generation (at least 2). Default 1000.
    latent_dim:
        Latent dimensions (at least 1). Default 8.
    hidden:
        Width of the two hidden layers of the encoder and the decoder (at least 1). Default 256.
    epochs:
        Training passes' worth of ``n`` rows per generation (at least 1). Default 100.
    batch_size:
        Rows per Adam step (at least 1). Default 64.
    lr:
        Adam learning rate, > 0. Default 1e-3.
    threads:
        torch threads while fitting, sampling and evaluating (at least 1). Default 1.
    """

    n: int = 1000
    latent_dim: int = 8
    hidden: int = 256
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    threads: int = 1
    name: ClassVar[str] = "vae"
    metrics: ClassVar[dict[str, str]] = {"class_coverage": "higher", "class_entropy": "higher", "fid": "lower",
                                         "latent_std": "higher", "nll_real": "lower"}
    tail_metric: ClassVar[str] = "class_entropy"
    quality_metric: ClassVar[str] = "fid"
    _cache: ClassVar[dict] = {}
    _PCA_DIM: ClassVar[int] = 16
    _EVAL_SAMPLES: ClassVar[int] = 2000

    def validate(self):
        super().validate()
        self._check_int("latent_dim", 1, "latent dimensions")
        self._check_int("hidden", 1, "width of the hidden layers")
        self._check_int("epochs", 1, "training passes' worth of n rows per generation")
        self._check_int("batch_size", 1, "rows per Adam step")
        self._check_real("lr", low=0.0, low_open=True, why="the Adam learning rate")
        self._check_int("threads", 1, "torch threads")
        return self

    @classmethod
    def _space(cls) -> tuple[np.ndarray, np.ndarray, Any, Any]:
        """(training half, held-out half) in [0, 1], the classifier and the PCA space, fitted once."""
        if "space" not in cls._cache:
            from sklearn.datasets import load_digits
            from sklearn.decomposition import PCA
            from sklearn.linear_model import LogisticRegression
            digits = load_digits()
            X = digits.data / 16.0
            train, held = X[0::2], X[1::2]
            clf = LogisticRegression(max_iter=3000).fit(train, digits.target[0::2])
            pca = PCA(cls._PCA_DIM, random_state=0).fit(train)
            cls._cache["space"] = (train, held, clf, pca)
        return cls._cache["space"]

    def real(self, rng, n):
        train = self._space()[0]
        return train[rng.integers(0, len(train), n)]

    def fit(self, data, rng):
        X_np = np.asarray(data, dtype=np.float32)
        steps = self.epochs * math.ceil(self.n / self.batch_size)
        with seeded_torch(rng, self.threads) as (torch, gen):
            net = _build_vae(X_np.shape[1], self.hidden, self.latent_dim)
            opt = torch.optim.Adam(net.parameters(), lr=self.lr)
            X = torch.from_numpy(X_np)
            for _ in range(steps):
                x = X[torch.randint(0, len(X), (self.batch_size,), generator=gen)]
                noise = torch.randn((len(x), self.latent_dim), generator=gen)
                loss = _neg_elbo(net, x, noise).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return net.eval()

    def sample(self, model, n, rng):
        with seeded_torch(rng, self.threads) as (torch, gen), torch.no_grad():
            z = torch.randn((n, self.latent_dim), generator=gen)
            return torch.sigmoid(model.decoder(z)).double().numpy()

    def log_likelihood(self, model, data):
        """Minus the negative ELBO of each row with its posterior mean decoded (a deterministic ELBO proxy)."""
        with torch_threads(self.threads) as torch, torch.no_grad():
            return -_neg_elbo(model, torch.as_tensor(np.asarray(data), dtype=torch.float32), None).double().numpy()

    def evaluate(self, model, rng):
        _, held, clf, pca = self._space()
        gen = self.sample(model, self._EVAL_SAMPLES, rng)
        share = np.bincount(clf.predict(gen), minlength=10) / len(gen)
        nz = share[share > 0]
        F_gen, F_held = pca.transform(gen), pca.transform(held)
        with torch_threads(self.threads) as torch, torch.no_grad():
            mu, _ = model.encode(torch.as_tensor(held, dtype=torch.float32))
        return {"class_coverage": float(np.mean(share >= 0.01)),
                "class_entropy": float(-(nz * np.log(nz)).sum() / math.log(10)) + 0.0,  # no -0.0
                "fid": w2_gaussian(F_gen.mean(axis=0), np.cov(F_gen.T), F_held.mean(axis=0), np.cov(F_held.T)),
                "latent_std": float(mu.double().std(dim=0).mean()),
                "nll_real": float(-np.mean(self.log_likelihood(model, held)))}
