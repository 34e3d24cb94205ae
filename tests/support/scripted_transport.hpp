// A scripted payments::Transport for provider unit tests: records each request, answers from a
// queue, and is unreachable once the queue is empty.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <vector>

#include "yizhan/payments/transport.hpp"

namespace yizhan::test_support {

class ScriptedTransport : public payments::Transport {
 public:
  using Answer = std::function<payments::HttpResponse(const payments::HttpRequest&)>;
  payments::HttpResponse send(const payments::HttpRequest& request,
                              std::chrono::milliseconds) override {
    requests.push_back(request);
    if (answers.empty())
      throw payments::ProviderError(payments::ProviderError::Kind::unreachable, "no answer");
    Answer next = std::move(answers.front());
    answers.pop_front();
    return next(request);
  }
  std::deque<Answer> answers;
  std::vector<payments::HttpRequest> requests;
};

}  // namespace yizhan::test_support
