/* The messages between rank 0 of a sweep and the ranks that run its trials
 * (see sweep_ranks.h). A start carries the trial, its log and its argv as
 * NUL-separated strings; a signal its trial and number; an exit its trial and
 * wait status. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sweep_ranks.h"

enum { TAG_START = 71, TAG_SIGNAL, TAG_EXIT, TAG_QUIT };
#define MESSAGE_BYTES 65536
#define MAX_ARGS 64

int sweep_start_child(char **argv, const char *log, pid_t *pid, clae_err *err)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return clae_fail(err, "cannot find clae's own executable: %s", strerror(errno));
    self[n] = 0;
    fflush(NULL);
    *pid = fork();
    if (*pid < 0) return clae_fail(err, "cannot start a trial: %s", strerror(errno));
    if (*pid == 0) {
        FILE *out = freopen(log, "a", stdout);
        if (!out || dup2(STDOUT_FILENO, STDERR_FILENO) < 0) _exit(127);
        setenv("CLAE_NO_MPI", "1", 1);
        argv[0] = self;
        execv(self, argv);
        _exit(127);
    }
    return 0;
}

int sweep_rank_start(const clae_job *d, int rank, int trial, const char *log, char **argv,
                     clae_err *err)
{
    char *msg = malloc(MESSAGE_BYTES);
    if (!msg) return clae_fail(err, "out of host memory");
    int32_t id = trial;
    memcpy(msg, &id, sizeof id);
    size_t at = sizeof id;
    for (const char *s = log; s; s = *argv ? *argv++ : NULL) {
        size_t len = strlen(s) + 1;
        if (at + len > MESSAGE_BYTES) {
            free(msg);
            return clae_fail(err, "trial %d's command line is over %d bytes", trial, MESSAGE_BYTES);
        }
        memcpy(msg + at, s, len);
        at += len;
    }
    int rc = clae_job_send(d, rank, TAG_START, msg, at, err);
    free(msg);
    return rc;
}

int sweep_rank_signal(const clae_job *d, int rank, int trial, int sig, clae_err *err)
{
    int32_t m[2] = {trial, sig};
    return clae_job_send(d, rank, TAG_SIGNAL, m, sizeof m, err);
}

int sweep_rank_poll_exit(const clae_job *d, bool *got, int *rank, int *status, clae_err *err)
{
    int32_t m[2];
    int tag;
    size_t bytes;
    if (clae_job_poll(d, m, sizeof m, got, rank, &tag, &bytes, err)) return -1;
    if (!*got) return 0;
    if (tag != TAG_EXIT || bytes != sizeof m)
        return clae_fail(err, "rank %d sent a message rank 0 of a sweep does not take (tag %d)",
                         *rank, tag);
    *status = m[1];
    return 0;
}

int sweep_rank_quit_all(const clae_job *d, clae_err *err)
{
    for (int r = 1; r < d->size; r++)
        if (clae_job_send(d, r, TAG_QUIT, "", 0, err)) return -1;
    return 0;
}

/* A start message into its log and argv (pointers into msg), with --device appended. */
static int parse_start(char *msg, size_t bytes, const char *device, int32_t *trial, char **log,
                       char **argv, clae_err *err)
{
    if (bytes < sizeof *trial + 2 || msg[bytes - 1])
        return clae_fail(err, "a trial message from rank 0 is malformed");
    memcpy(trial, msg, sizeof *trial);
    char *p = msg + sizeof *trial, *end = msg + bytes;
    *log = p;
    p += strlen(p) + 1;
    int n = 0;
    for (; p < end && n < MAX_ARGS - 3; p += strlen(p) + 1) argv[n++] = p;
    if (device[0]) argv[n++] = "--device", argv[n++] = (char *)device;
    argv[n] = NULL;
    return n > 1 ? 0 : clae_fail(err, "a trial message from rank 0 has no command");
}

/* One message from rank 0, if any: *quit when it says so. */
static int take_message(const clae_job *d, const char *device, char *msg, pid_t *child,
                        int32_t *trial, bool *quit, clae_err *err)
{
    bool got;
    int from, tag;
    size_t bytes;
    if (clae_job_poll(d, msg, MESSAGE_BYTES, &got, &from, &tag, &bytes, err)) return -1;
    if (!got) return 0;
    if (tag == TAG_QUIT) return *quit = true, 0;
    if (tag == TAG_SIGNAL && bytes == 2 * sizeof(int32_t)) {
        int32_t m[2];
        memcpy(m, msg, sizeof m);
        if (*child && m[0] == *trial) kill(*child, m[1]);
        return 0;
    }
    if (tag != TAG_START) return clae_fail(err, "rank 0 sent a message of tag %d", tag);
    if (*child) return clae_fail(err, "rank 0 started a second trial on a busy rank");
    char *argv[MAX_ARGS], *log = NULL;
    return parse_start(msg, bytes, device, trial, &log, argv, err) ||
           sweep_start_child(argv, log, child, err);
}

int sweep_rank_work(const clae_job *d, const char *device, const volatile sig_atomic_t *stop,
                    clae_err *err)
{
    char *msg = malloc(MESSAGE_BYTES);
    if (!msg) return clae_fail(err, "out of host memory");
    pid_t child = 0;
    int32_t trial = -1;
    bool quit = false, forwarded = false;
    int rc = 0;
    while (rc == 0 && !(quit && !child)) {
        rc = take_message(d, device, msg, &child, &trial, &quit, err);
        int status;
        if (rc == 0 && child && waitpid(child, &status, WNOHANG) == child) {
            int32_t m[2] = {trial, status};
            child = 0;
            forwarded = false;
            rc = clae_job_send(d, 0, TAG_EXIT, m, sizeof m, err);
        }
        if (*stop && child && !forwarded) kill(child, SIGTERM), forwarded = true;
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    free(msg);
    return rc;
}
