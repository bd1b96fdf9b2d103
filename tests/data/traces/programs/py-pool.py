# py-pool.py: a multiprocessing pool of 2 forked workers (fork start method; the parent then starts the pool's 3
# helper threads) building dicts of strings and summing squares.   python3.11 py-pool.py
import multiprocessing as mp


def work(n):
    d = {i: str(i) * 3 for i in range(n)}
    return sum(len(v) for v in d.values()) + sum(x * x for x in range(n))


if __name__ == "__main__":
    mp.set_start_method("fork")
    with mp.Pool(2) as p:
        print(sum(p.map(work, [20000 + 1000 * i for i in range(16)])))
