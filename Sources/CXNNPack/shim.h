// Debian ships xnnpack.h without a pkg-config file; bookworm (2022) and trixie (2024) headers both work.
#include <xnnpack.h>
#include <pthreadpool.h>

// trixie's header marks these deprecated with their signatures unchanged; calling them through these
// wrappers keeps the Swift build warning-free on both releases.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline enum xnn_status kiosk_xnn_define_add2(
    xnn_subgraph_t subgraph, float output_min, float output_max, uint32_t input1_id, uint32_t input2_id,
    uint32_t output_id, uint32_t flags) {
  return xnn_define_add2(subgraph, output_min, output_max, input1_id, input2_id, output_id, flags);
}

static inline enum xnn_status kiosk_xnn_define_global_average_pooling_2d(
    xnn_subgraph_t subgraph, float output_min, float output_max, uint32_t input_id, uint32_t output_id,
    uint32_t flags) {
  return xnn_define_global_average_pooling_2d(subgraph, output_min, output_max, input_id, output_id, flags);
}
#pragma clang diagnostic pop
