#!/usr/bin/env python3
"""k-means quality against scikit-learn (issue 20): mean inertia over 5 seeds of `diffrep cluster` (run first, one
output folder per store/layer/sigma/seed as below) against 5 seeds of sklearn.cluster.KMeans(n_clusters=20, n_init=10)
on the same float64 rows. Reference only (Debian python3-sklearn), never a dependency. Paths: the stores of a plan run
(docs/plans/mnist-two-models.yaml) under /tmp/plans-e2e/run1/stores and diffrep's outputs under /tmp/km; edit to taste."""
import json, time, numpy as np
from sklearn.cluster import KMeans
rows=[]
for st in ["a64162c2e68c7c32", "d826f29f8bc133d2"]:
    for layer in ["mid", "dec.0"]:
        for j in [2, 6]:
            X = np.load(f"/tmp/plans-e2e/run1/stores/{st}/features/{layer}/sigma_{j}.npy").astype(np.float64)
            ours=[json.load(open(f"/tmp/km/{st}-{layer}-{j}" + ("" if s==0 else f"-s{s}") + "/cluster.json"))["inertia"] for s in range(5)]
            sk=[]; t=time.time()
            for seed in range(5):
                sk.append(KMeans(n_clusters=20, n_init=10, random_state=seed).fit(X).inertia_)
            dt=(time.time()-t)/5
            r=np.mean(ours)/np.mean(sk); rows.append(r)
            print(f"{st[:6]} {layer:5s} sigma#{j} [{X.shape[0]}x{X.shape[1]}] ours mean {np.mean(ours):.5g} (sd {np.std(ours)/np.mean(ours)*100:.2f}%)  sklearn mean {np.mean(sk):.5g} (sd {np.std(sk)/np.mean(sk)*100:.2f}%)  ratio {r:.4f}  sklearn {dt:.2f} s/fit")
print("mean ratio", np.mean(rows), "max", max(rows), "min", min(rows))
