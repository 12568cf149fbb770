/*
 * read_libfstrm: reads every data frame of a Frame Streams file with the
 * reference C library, libfstrm (fstrm_file_reader_init, then
 * fstrm_reader_read until it stops). bench/read_bench.ts times it as
 * "c-libfstrm", the reader our readers must keep up with.
 *
 *   read_libfstrm [-t CONTENT_TYPE] [-m MAX_FRAME_BYTES] FILE
 *
 * -t CONTENT_TYPE     the content type to accept (default
 *                     protobuf:dnstap.Dnstap; '' accepts any)
 * -m MAX_FRAME_BYTES  libfstrm's limit on a data frame (its default is
 *                     1 MiB; a longer frame makes fstrm_reader_read fail)
 *
 * Stdout, as the reader contract (peers/README.md) asks:
 *   frames=N bytes=B check=0xHHHHHHHH
 *   reader=c-libfstrm elapsed_s=S frames_per_s=F MB_per_s=M
 * Exits 1, with a line on stderr, when libfstrm fails, and when the file
 * ends without STOP (libfstrm 0.6.1 reports a plain end of file, even one
 * inside a frame, as a stop; only a real STOP frame is recorded).
 */
#include <fstrm.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: read_libfstrm [-t CONTENT_TYPE] [-m MAX_FRAME_BYTES] FILE\n"

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	const char *content_type = "protobuf:dnstap.Dnstap";
	size_t max_frame = 0;
	int opt;
	while ((opt = getopt(argc, argv, "t:m:")) != -1) {
		switch (opt) {
		case 't': content_type = optarg; break;
		case 'm': max_frame = strtoull(optarg, NULL, 0); break;
		default: fputs(USAGE, stderr); return 2;
		}
	}
	if (argc - optind != 1) {
		fputs(USAGE, stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}

	double start = seconds();
	struct fstrm_file_options *fopt = fstrm_file_options_init();
	fstrm_file_options_set_file_path(fopt, path);
	struct fstrm_reader_options *ropt = fstrm_reader_options_init();
	if (*content_type != '\0')
		fstrm_reader_options_add_content_type(ropt, content_type, strlen(content_type));
	if (max_frame != 0 && fstrm_reader_options_set_max_frame_size(ropt, max_frame) != fstrm_res_success) {
		fprintf(stderr, "read_libfstrm: libfstrm rejects a frame limit of %zu bytes\n", max_frame);
		return 2;
	}
	struct fstrm_reader *reader = fstrm_file_reader_init(fopt, ropt);
	fstrm_file_options_destroy(&fopt);
	fstrm_reader_options_destroy(&ropt);
	if (reader == NULL || fstrm_reader_open(reader) != fstrm_res_success) {
		fprintf(stderr, "read_libfstrm: cannot open %s (missing, bad START or another content type)\n", path);
		return 1;
	}

	uint64_t frames = 0, bytes = 0;
	uint32_t check = 0x811c9dc5u;
	fstrm_res res;
	for (;;) {
		const uint8_t *data = NULL;
		size_t length = 0;
		res = fstrm_reader_read(reader, &data, &length);
		if (res != fstrm_res_success)
			break;
		if (data == NULL) {
			/* libfstrm 0.6.1 returns success without a frame for one over
			 * the limit (the next call fails). */
			fprintf(stderr, "read_libfstrm: a frame over the limit (-m) after %" PRIu64 " frames\n",
				frames);
			return 1;
		}
		frames++;
		bytes += length;
		check = (check ^ data[0]) * 16777619u;
		check = (check ^ data[length - 1]) * 16777619u;
	}
	double elapsed = seconds() - start;
	const struct fstrm_control *stop = NULL;
	if (res != fstrm_res_stop) {
		fprintf(stderr, "read_libfstrm: fstrm_reader_read failed (%d) after %" PRIu64 " frames\n",
			(int)res, frames);
		return 1;
	}
	if (fstrm_reader_get_control(reader, FSTRM_CONTROL_STOP, &stop) != fstrm_res_success || stop == NULL) {
		fprintf(stderr, "read_libfstrm: the file ends without STOP after %" PRIu64 " frames\n", frames);
		return 1;
	}
	fstrm_reader_destroy(&reader);

	printf("frames=%" PRIu64 " bytes=%" PRIu64 " check=0x%08" PRIx32 "\n", frames, bytes, check);
	printf("reader=c-libfstrm elapsed_s=%.6f frames_per_s=%.0f MB_per_s=%.1f\n", elapsed,
	       (double)frames / elapsed, (double)st.st_size / elapsed / 1e6);
	return 0;
}
