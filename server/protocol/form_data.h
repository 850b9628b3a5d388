// multipart/form-data request bodies (RFC 7578), as FastAPI's UploadFile reads them: the content
// of one named field. The delimiters are found here; header parameters (boundary, name) are read
// with Beast's RFC 7230 parameter-list parser. (libmimetic was tried first: the fuzzer found an
// input that makes it compute a negative length within seconds.)
#pragma once

#include <string_view>

#include "base/result.h"

namespace sgl::server {

// The content of the part named `field` of a body whose Content-Type is `content_type`
// (multipart/form-data with a boundary): a view into `body`. Errors name what is missing.
Result<std::string_view> form_data_field(std::string_view content_type, std::string_view body,
                                         std::string_view field);

}  // namespace sgl::server
