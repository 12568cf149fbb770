/*
 * fstrm_gen: writes a Frame Streams file with libfstrm's own file writer,
 * so that our readers are tested (tests/interop_fstrm_bin_test.ts,
 * tests/frame_reader_test.ts) on bytes the reference implementation wrote.
 *
 *   fstrm_gen [-t CONTENT_TYPE] [-s SEED] FRAMES MIN_LENGTH MAX_LENGTH FILE
 *
 * The payloads come from one splitmix64 stream seeded with SEED (default 1):
 * for each frame, its length (MIN_LENGTH + next() % (MAX_LENGTH - MIN_LENGTH
 * + 1), no draw when the two are equal), then its bytes, 8 at a time, each
 * draw stored little-endian, the last one cut to the length. The output is
 * byte for byte deterministic, and bench/make_data.ts writes the same bytes
 * without libfstrm (a test compares the two).
 *
 * On success it prints the summary line of the reader contract
 * (peers/README.md):  frames=N bytes=B check=0xHHHHHHHH
 */
#include <fstrm.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: fstrm_gen [-t CONTENT_TYPE] [-s SEED] FRAMES MIN_LENGTH MAX_LENGTH FILE\n"
/* The largest payload: a 32-bit length, less room for rounding to 8. */
#define MAX_PAYLOAD 0xfffffff0ULL

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, one draw per call. */
static uint64_t next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Parses a whole decimal (or 0x) number, or exits with the usage. */
static uint64_t number(const char *text)
{
	char *end = NULL;
	uint64_t value = strtoull(text, &end, 0);
	if (*text == '\0' || *end != '\0') {
		fputs(USAGE, stderr);
		exit(2);
	}
	return value;
}

/* Writes the bytes of one draw, little-endian, whatever the host's order. */
static void store_le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int main(int argc, char **argv)
{
	const char *content_type = "protobuf:dnstap.Dnstap";
	uint64_t state = 1;
	int opt;
	while ((opt = getopt(argc, argv, "t:s:")) != -1) {
		switch (opt) {
		case 't': content_type = optarg; break;
		case 's': state = number(optarg); break;
		default: fputs(USAGE, stderr); return 2;
		}
	}
	if (argc - optind != 4) {
		fputs(USAGE, stderr);
		return 2;
	}
	uint64_t frames = number(argv[optind]);
	uint64_t min = number(argv[optind + 1]);
	uint64_t max = number(argv[optind + 2]);
	const char *path = argv[optind + 3];
	if (min < 1 || max < min || max > MAX_PAYLOAD) {
		fprintf(stderr, "fstrm_gen: lengths must satisfy 1 <= MIN <= MAX <= %llu\n", MAX_PAYLOAD);
		return 2;
	}

	struct fstrm_file_options *fopt = fstrm_file_options_init();
	fstrm_file_options_set_file_path(fopt, path);
	struct fstrm_writer_options *wopt = fstrm_writer_options_init();
	if (fstrm_writer_options_add_content_type(wopt, content_type, strlen(content_type)) !=
	    fstrm_res_success) {
		fprintf(stderr, "fstrm_gen: libfstrm rejects the content type\n");
		return 1;
	}
	struct fstrm_writer *writer = fstrm_file_writer_init(fopt, wopt);
	fstrm_file_options_destroy(&fopt);
	fstrm_writer_options_destroy(&wopt);
	if (writer == NULL || fstrm_writer_open(writer) != fstrm_res_success) {
		fprintf(stderr, "fstrm_gen: cannot open %s\n", path);
		return 1;
	}

	/* Room for the last draw of the longest payload. */
	uint8_t *payload = malloc((max + 7) & ~7ULL);
	if (payload == NULL) {
		perror("fstrm_gen");
		return 1;
	}
	uint64_t span = max - min + 1;
	uint64_t bytes = 0;
	uint32_t check = 0x811c9dc5u;
	for (uint64_t i = 0; i < frames; i++) {
		uint64_t length = span == 1 ? min : min + next(&state) % span;
		for (uint64_t at = 0; at < length; at += 8)
			store_le(payload + at, next(&state));
		bytes += length;
		check = (check ^ payload[0]) * 16777619u;
		check = (check ^ payload[length - 1]) * 16777619u;
		if (fstrm_writer_write(writer, payload, length) != fstrm_res_success) {
			fprintf(stderr, "fstrm_gen: fstrm_writer_write failed at frame %" PRIu64 "\n", i);
			return 1;
		}
	}
	/* Closing writes STOP, then flushes and closes the file. */
	if (fstrm_writer_close(writer) != fstrm_res_success) {
		fprintf(stderr, "fstrm_gen: fstrm_writer_close failed\n");
		return 1;
	}
	fstrm_writer_destroy(&writer);
	free(payload);
	printf("frames=%" PRIu64 " bytes=%" PRIu64 " check=0x%08" PRIx32 "\n", frames, bytes, check);
	return 0;
}
