/* log2.bpf.h - the log2 latency bucket shared by the BPF objects' histograms. */
#ifndef OSD_LOG2_BPF_H
#define OSD_LOG2_BPF_H

/* Bucket b holds [2^b, 2^(b+1)) (0 and 1 in bucket 0); values past the last bucket go to it. */
static __always_inline __u32 log2_bucket(__u64 v, __u32 nbuckets)
{
    __u32 b = 0;

#pragma unroll
    for (int i = 5; i >= 0; i--) {
        __u32 shift = 1u << i;
        if (v >= (1ULL << shift)) {
            v >>= shift;
            b += shift;
        }
    }
    return b < nbuckets ? b : nbuckets - 1;
}
#endif
