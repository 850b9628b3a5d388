#include "engine/weight_source.h"

#include <spdlog/spdlog.h>

#include "engine/models/decoder.h"
#include "engine/safetensors.h"

namespace sgl::engine {

Status fill_weights(DecoderModel& model, const WeightSource& source, bool log_progress) {
  model.allocate();
  if (source.dummy) {
    model.init_dummy(source.seed);
  } else {
    SGL_ASSIGN_OR_RETURN(WeightFiles files, WeightFiles::open_dir(source.path));
    if (log_progress) files.track_progress();
    SGL_TRY(model.load(files));
    files.finish_progress();
  }
  if (source.online != OnlineQuant::kNone) {
    const OnlineQuant how = source.online;
    model.quantize_linears([how](const cpu::PackedWeight& w) { return quantize_weight(w, how); });
    spdlog::info("Quantized the linear weights at load ({})", source.quantization);
  }
  return ok_status();
}

}  // namespace sgl::engine
