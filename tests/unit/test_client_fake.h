/* test_client_fake.h - helpers for osdctl tests: a fake osdetd (a Unix socket in a temporary
 * directory served by a thread that answers each request through a callback, and that can
 * send notifications on its own), and a runner that starts the osdctl binary and captures
 * its output and exit status. */
#ifndef TEST_CLIENT_FAKE_H
#define TEST_CLIENT_FAKE_H
#include <jansson.h>
#include <pthread.h>
#include <sys/types.h>

struct fake;
/* Returns {"result": ...} or {"error": {...}} (jsonrpc and id are added), or NULL to stay
 * silent. Runs on the server thread. */
typedef json_t *(*fake_handler)(struct fake *f, const char *method, json_t *params, void *arg);

struct fake {
    char dir[64];
    char path[108];
    int lfd;
    int stop[2];             /* a pipe: closing the write end stops the thread */
    int push[2];             /* a pipe of lines for the client (fake_push); an empty line hangs up */
    int cur_fd;              /* the connection being served, -1 if none (server thread only) */
    pthread_t thread;
    fake_handler handler;
    void *arg;
    pthread_mutex_t lock;    /* guards log, nreq and nconn, read by the test thread */
    char log[4096];          /* "method params\n" per request, compact JSON */
    int nreq;
    int nconn;               /* connections accepted */
};

int fake_start(struct fake *f, fake_handler h, void *arg);  /* 0 or -errno */
void fake_stop(struct fake *f);
/* A copy of the request log (caller frees). */
char *fake_log(struct fake *f);

/* From a handler (server thread): writes msg (not consumed) as one line to the client now,
 * before the reply, as a daemon interleaves notifications. */
void fake_send(struct fake *f, const json_t *msg);
/* From the test thread: the server writes msg (not consumed) to the connected client. */
void fake_push(struct fake *f, const json_t *msg);
/* From the test thread: the server closes the current connection. */
void fake_hangup(struct fake *f);
/* A notification {"jsonrpc":"2.0","method":method,"params":params}; steals params. */
json_t *fake_notification(const char *method, json_t *params);

json_t *fake_result(json_t *result);                       /* steals result */
json_t *fake_error(int code, const char *message);

struct run {
    pid_t pid;
    int out_fd, err_fd;
    char *out, *err;         /* captured, NUL-terminated */
    size_t out_len, err_len;
    int status;              /* exit code, or 128 + signal */
};

/* Starts argv (argv[0] a path) with OSDETD_SOCKET unset unless env_socket. 0 or -errno. */
int run_start(struct run *r, char *const *argv, const char *env_socket);
/* Reads output until stdout contains want (NULL: until exit) or timeout_ms passes.
 * Returns 1 if want was seen / the process exited, 0 on timeout. */
int run_wait_output(struct run *r, const char *want, int timeout_ms);
/* Collects the rest of the output and the exit status; kills after timeout_ms. */
int run_finish(struct run *r, int timeout_ms);
void run_free(struct run *r);
/* run_start + run_finish with a 10 s limit. */
int run_cmd(struct run *r, char *const *argv, const char *env_socket);
#endif
