/*
 * The ceiling for bench/socket_bench.ts: a file's bytes through a Unix or
 * TCP socket with no framing at all, as fast as read(2) and write(2) go.
 *
 *   pump recv unix:PATH|tcp:PORT SIZE        accept one connection, read it
 *                                            SIZE bytes at a time, print the
 *                                            byte count (the first connection,
 *                                            if empty, is a readiness probe)
 *   pump send unix:PATH|tcp:PORT FILE SIZE   send FILE, SIZE bytes at a time
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int make_socket(const char *where, struct sockaddr_storage *ss,
                       socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (strncmp(where, "unix:", 5) == 0) {
    struct sockaddr_un *u = (struct sockaddr_un *)ss;
    u->sun_family = AF_UNIX;
    strncpy(u->sun_path, where + 5, sizeof u->sun_path - 1);
    *len = sizeof *u;
    return socket(AF_UNIX, SOCK_STREAM, 0);
  }
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  in->sin_family = AF_INET;
  in->sin_port = htons((unsigned short)atoi(where + 4));
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *len = sizeof *in;
  return socket(AF_INET, SOCK_STREAM, 0);
}

int main(int argc, char **argv) {
  struct sockaddr_storage ss;
  socklen_t len;
  if (argc == 5 && strcmp(argv[1], "send") == 0) {
    size_t size = (size_t)atol(argv[4]);
    char *buf = malloc(size);
    int fd = open(argv[3], O_RDONLY);
    int s = make_socket(argv[2], &ss, &len);
    if (buf == NULL || fd < 0 || connect(s, (struct sockaddr *)&ss, len) != 0) {
      perror("pump send");
      return 1;
    }
    ssize_t n;
    while ((n = read(fd, buf, size)) > 0) {
      for (ssize_t o = 0; o < n;) {
        ssize_t w = write(s, buf + o, (size_t)(n - o));
        if (w < 0) {
          perror("pump send: write");
          return 1;
        }
        o += w;
      }
    }
    close(s);
    return n < 0;
  }
  if (argc == 4 && strcmp(argv[1], "recv") == 0) {
    size_t size = (size_t)atol(argv[3]);
    char *buf = malloc(size);
    int s = make_socket(argv[2], &ss, &len);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (strncmp(argv[2], "unix:", 5) == 0) unlink(argv[2] + 5);
    if (buf == NULL || bind(s, (struct sockaddr *)&ss, len) != 0 ||
        listen(s, 4) != 0) {
      perror("pump recv");
      return 1;
    }
    for (;;) {
      int c = accept(s, NULL, NULL);
      long total = 0;
      ssize_t n;
      while ((n = read(c, buf, size)) > 0) total += n;
      close(c);
      if (total > 0) {
        printf("%ld\n", total);
        return 0;
      }
    }
  }
  fprintf(stderr, "usage: pump send WHERE FILE SIZE | pump recv WHERE SIZE\n");
  return 2;
}
