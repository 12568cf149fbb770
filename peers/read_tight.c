/*
 * read_tight: a hand-written Frame Streams file reader with no library, as
 * fast as a reader of a file descriptor can be. The tests use it as an
 * oracle (tests/interop_fstrm_bin_test.ts) and bench/read_bench.ts as the
 * upper bound ("c-tight-read") our readers are measured against.
 *
 *   read_tight [-m read|mmap] [-b CHUNK_BYTES] [-t CONTENT_TYPE] FILE
 *
 * -m read (default)  read(2) into one buffer of CHUNK_BYTES (default 1 MiB),
 *                    walk the whole frames it holds, move the partial frame
 *                    at its end to the front, read on. Every payload is seen
 *                    whole, as a zero-copy reader hands it to its caller; the
 *                    buffer grows only for a frame larger than itself.
 * -m mmap            map the whole file and walk it.
 * -t CONTENT_TYPE    the content type START must name, if it names any
 *                    (default protobuf:dnstap.Dnstap; '' accepts any).
 *
 * Stdout, as the reader contract (peers/README.md) asks:
 *   frames=N bytes=B check=0xHHHHHHHH
 *   reader=c-tight-MODE elapsed_s=S frames_per_s=F MB_per_s=M
 * Exits 1, with a line on stderr, on a truncated file, a missing START or
 * STOP, a second START, a malformed control frame or another content type.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: read_tight [-m read|mmap] [-b CHUNK_BYTES] [-t CONTENT_TYPE] FILE\n"
#define CONTROL_MAX 512u       /* libfstrm's longest control frame */
#define FRAME_MAX (1u << 30)   /* the longest data frame we buffer */
#define CONTROL_START 2u
#define CONTROL_STOP 3u
#define FIELD_CONTENT_TYPE 1u

static const char *content_type = "protobuf:dnstap.Dnstap";

/* What the walk has seen so far. */
struct tally {
	uint64_t frames;
	uint64_t bytes;
	uint32_t check;
	int started;
	int stopped;
};

static void fail(const char *why)
{
	fprintf(stderr, "read_tight: %s\n", why);
	exit(1);
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Checks one control frame's body (type and fields, `length` bytes) and
 * applies it to the tally.
 */
static void control(struct tally *t, const uint8_t *body, uint32_t length)
{
	uint32_t type = be32(body);
	if (type == CONTROL_START) {
		if (t->started)
			fail("a second START frame");
		t->started = 1;
		int named = 0, matched = 0;
		size_t want = strlen(content_type);
		for (uint32_t at = 4; at < length;) {
			if (length - at < 8)
				fail("a control field header is cut short");
			uint32_t field = be32(body + at), size = be32(body + at + 4);
			at += 8;
			if (size > length - at)
				fail("a control field is longer than its frame");
			if (field == FIELD_CONTENT_TYPE) {
				named = 1;
				matched |= size == want && memcmp(body + at, content_type, want) == 0;
			}
			at += size;
		}
		if (want > 0 && named && !matched)
			fail("START names another content type");
	} else if (type == CONTROL_STOP) {
		t->stopped = 1;
	}
}

/*
 * Walks the whole frames at the front of buf[0, n) and returns the bytes
 * they take; stops after STOP. Hot loop: the counters live in locals.
 */
static size_t walk(struct tally *t, const uint8_t *buf, size_t n)
{
	size_t at = 0;
	uint64_t frames = t->frames, bytes = t->bytes;
	uint32_t check = t->check;
	while (n - at >= 4) {
		uint32_t length = be32(buf + at);
		if (__builtin_expect(length != 0, 1)) {
			if (n - at - 4 < length)
				break;
			if (!t->started)
				fail("a data frame before START");
			const uint8_t *payload = buf + at + 4;
			frames++;
			bytes += length;
			check = (check ^ payload[0]) * 16777619u;
			check = (check ^ payload[length - 1]) * 16777619u;
			at += 4 + (size_t)length;
			continue;
		}
		/* A control frame: escape (0), length, body. */
		if (n - at < 8)
			break;
		uint32_t size = be32(buf + at + 4);
		if (size < 4 || size > CONTROL_MAX)
			fail("a control frame of a bad length");
		if (n - at - 8 < size)
			break;
		control(t, buf + at + 8, size);
		at += 8 + (size_t)size;
		if (t->stopped)
			break;
	}
	t->frames = frames;
	t->bytes = bytes;
	t->check = check;
	return at;
}

/* The bytes the frame at the front of buf[0, n) takes, once its header is in. */
static size_t pending_size(const uint8_t *buf, size_t n)
{
	if (n < 4)
		return 4;
	uint32_t length = be32(buf);
	if (length > FRAME_MAX)
		fail("a data frame over 1 GiB");
	if (length != 0)
		return 4 + (size_t)length;
	return n < 8 ? 8 : 8 + (size_t)be32(buf + 4);
}

static void read_chunks(struct tally *t, int fd, size_t chunk)
{
	size_t capacity = chunk, have = 0;
	uint8_t *buf = malloc(capacity);
	if (buf == NULL)
		fail("out of memory");
	for (;;) {
		ssize_t got = read(fd, buf + have, capacity - have);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("read_tight: read");
			exit(1);
		}
		if (got == 0)
			break;
		have += (size_t)got;
		size_t used = walk(t, buf, have);
		if (t->stopped)
			break;
		have -= used;
		memmove(buf, buf + used, have);
		size_t need = pending_size(buf, have);
		if (need > capacity) {
			capacity = need;
			buf = realloc(buf, capacity);
			if (buf == NULL)
				fail("out of memory");
		}
	}
	free(buf);
	if (!t->stopped)
		fail(have > 0 ? "the file ends inside a frame" : "no STOP frame");
}

static void read_mapped(struct tally *t, int fd, size_t size)
{
	if (size == 0)
		fail("an empty file");
	const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		perror("read_tight: mmap");
		exit(1);
	}
	madvise((void *)map, size, MADV_SEQUENTIAL);
	size_t used = walk(t, map, size);
	if (!t->stopped)
		fail(used < size ? "the file ends inside a frame" : "no STOP frame");
	munmap((void *)map, size);
}

int main(int argc, char **argv)
{
	const char *mode = "read";
	size_t chunk = 1 << 20;
	int opt;
	while ((opt = getopt(argc, argv, "m:b:t:")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 'b': chunk = strtoull(optarg, NULL, 0); break;
		case 't': content_type = optarg; break;
		default: fputs(USAGE, stderr); return 2;
		}
	}
	int mapped = strcmp(mode, "mmap") == 0;
	if (argc - optind != 1 || chunk < 16 || (!mapped && strcmp(mode, "read") != 0)) {
		fputs(USAGE, stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct tally t = { .check = 0x811c9dc5u };
	struct stat st;

	double start = seconds();
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		return 1;
	}
	if (mapped)
		read_mapped(&t, fd, (size_t)st.st_size);
	else
		read_chunks(&t, fd, chunk);
	close(fd);
	double elapsed = seconds() - start;

	printf("frames=%" PRIu64 " bytes=%" PRIu64 " check=0x%08" PRIx32 "\n", t.frames, t.bytes, t.check);
	printf("reader=c-tight-%s elapsed_s=%.6f frames_per_s=%.0f MB_per_s=%.1f\n", mode, elapsed,
	       (double)t.frames / elapsed, (double)st.st_size / elapsed / 1e6);
	return 0;
}
