// inflatecmp inflates one raw DEFLATE stream with libdeflate, ISA-L and
// zlib, checks each output against the expected bytes, then times
// ITERATIONS inflations with each and prints MB/s of output. run.sh builds
// it, makes the stream and runs it in rounds; see docs/performance.md,
// "The inflater against libdeflate and ISA-L".
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char *slurp(const char *path, size_t *n) {
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	*n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc(*n + 1);
	if (fread(b, 1, *n, f) != *n) {
		fprintf(stderr, "%s: short read\n", path);
		exit(1);
	}
	fclose(f);
	return b;
}

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned char *in, *want, *out;
static size_t nin, nwant, cap;
static struct libdeflate_decompressor *ld;

// Each returns the bytes inflated, or -1.
static long with_libdeflate(void) {
	size_t got;
	if (libdeflate_deflate_decompress(ld, in, nin, out, cap, &got) != LIBDEFLATE_SUCCESS)
		return -1;
	return got;
}

static long with_isal(void) {
	struct inflate_state st;
	isal_inflate_init(&st);
	st.crc_flag = ISAL_DEFLATE;
	st.next_in = in;
	st.avail_in = nin;
	st.next_out = out;
	st.avail_out = cap;
	if (isal_inflate_stateless(&st) != ISAL_DECOMP_OK)
		return -1;
	return st.total_out;
}

static long with_zlib(void) {
	z_stream s;
	memset(&s, 0, sizeof s);
	if (inflateInit2(&s, -15) != Z_OK)
		return -1;
	s.next_in = in;
	s.avail_in = nin;
	s.next_out = out;
	s.avail_out = cap;
	int rc = inflate(&s, Z_FINISH);
	long n = s.total_out;
	inflateEnd(&s);
	return rc == Z_STREAM_END ? n : -1;
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: inflatecmp STREAM EXPECTED ITERATIONS\n");
		return 2;
	}
	in = slurp(argv[1], &nin);
	want = slurp(argv[2], &nwant);
	int iters = atoi(argv[3]);
	cap = nwant + 65536;
	out = malloc(cap);
	ld = libdeflate_alloc_decompressor();
	struct {
		const char *name;
		long (*run)(void);
	} libs[] = {{"libdeflate", with_libdeflate}, {"isa-l", with_isal}, {"zlib", with_zlib}};
	for (size_t k = 0; k < sizeof libs / sizeof libs[0]; k++) {
		memset(out, 0, cap);
		long n = libs[k].run();
		if (n != (long)nwant || memcmp(out, want, nwant) != 0) {
			fprintf(stderr, "%s: %ld bytes, want %zu (or different bytes)\n", libs[k].name, n, nwant);
			return 1;
		}
		double t = now();
		for (int i = 0; i < iters; i++)
			libs[k].run();
		double dt = now() - t;
		printf("%-10s %8.1f MB/s\n", libs[k].name, (double)nwant * iters / dt / 1e6);
	}
	return 0;
}
