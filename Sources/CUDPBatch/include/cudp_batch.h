#ifndef CUDP_BATCH_H
#define CUDP_BATCH_H

#include <sys/socket.h>

/// The layout of glibc's `struct mmsghdr`, which Swift's Glibc module hides behind _GNU_SOURCE.
struct cudp_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// recvmmsg(2) with MSG_WAITFORONE semantics left to `flags`; returns the count or -1 (errno set).
int cudp_recvmmsg(int fd, struct cudp_mmsghdr *messages, unsigned int count, int flags);

/// sendmmsg(2); returns the count sent or -1 (errno set).
int cudp_sendmmsg(int fd, struct cudp_mmsghdr *messages, unsigned int count, int flags);

/// MSG_WAITFORONE, also hidden behind _GNU_SOURCE.
int cudp_msg_waitforone(void);

/// Asks the CPU to start loading the cache line at `address` (a hint; never faults). The batch
/// engine uses it to fetch the memory of every answer in a batch at once instead of one by one.
static inline void cudp_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
