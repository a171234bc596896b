#pragma once
// `chat_template:` mergekit's built-in names (our own templates in data/chat_templates/,
// embedded at build time), "auto", or a literal Jinja template.
#include <string>
#include <vector>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/config.hpp"

namespace wasmerge {

struct MergePlan;

std::vector<std::string> chat_template_names();
// The config's value as a template; a value that is none of the three is a config error.
ChatTemplate parse_chat_template(const std::string& value);
// "auto": the template most models' tokenizer_config.json carry (the first in config
// order among equals, compared without surrounding whitespace); empty when none has one.
std::string shared_chat_template(const MergePlan& plan, InputFiles& files);

}  // namespace wasmerge
