// leveldb-bench.cc: LevelDB under a db_bench-like load: fill N keys (100-byte values) in one thread, then T threads
// each read random keys for a fixed count (db_bench's fillrandom then readrandom). usage: leveldb-bench DIR N T READS
#include <leveldb/db.h>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
	if (argc != 5) { fprintf(stderr, "usage: leveldb-bench DIR N T READS\n"); return 2; }
	const char *dir = argv[1];
	long n = atol(argv[2]), t = atol(argv[3]), reads = atol(argv[4]);
	leveldb::Options o;
	o.create_if_missing = true;
	leveldb::DB *db;
	if (!leveldb::DB::Open(o, dir, &db).ok()) { fprintf(stderr, "open failed\n"); return 1; }
	std::string v(100, 'v');
	unsigned long long x = 88172645463325252ull;
	auto rnd = [](unsigned long long &s) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; };
	for (long i = 0; i < n; i++) {
		char k[32];
		snprintf(k, sizeof(k), "%016llu", rnd(x) % (unsigned long long)n);
		db->Put(leveldb::WriteOptions(), k, v);
	}
	std::vector<std::thread> ths;
	long found = 0;
	for (long j = 0; j < t; j++)
		ths.emplace_back([&, j] {
			unsigned long long s = 0x9E3779B97F4A7C15ull * (j + 1);
			std::string val;
			long f = 0;
			for (long i = 0; i < reads; i++) {
				char k[32];
				snprintf(k, sizeof(k), "%016llu", rnd(s) % (unsigned long long)n);
				f += db->Get(leveldb::ReadOptions(), k, &val).ok();
			}
			__atomic_fetch_add(&found, f, __ATOMIC_RELAXED);
		});
	for (auto &th : ths) th.join();
	printf("found %ld of %ld\n", found, t * reads);
	delete db;
	return 0;
}
