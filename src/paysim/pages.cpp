// The payer's page of the simulator: 模拟支付 with the amount and a 确认支付 button, phone-sized,
// no script (a plain form post), so a browser test clicks it like a payer would.
#include <string>

#include "simulator.hpp"
#include "yizhan/domain/money.hpp"

namespace yizhan::paysim {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string render_pay_page(const SimOrder& order, const std::string& pay_action,
                            const std::string& return_link) {
  const bool wechat = order.provider == "wechat";
  const std::string brand = wechat ? "微信支付 / WeChat Pay" : "支付宝 / Alipay";
  const std::string colour = wechat ? "#07c160" : "#1677ff";
  std::string status, body;
  switch (order.state) {
    case SimOrder::State::unpaid:
    case SimOrder::State::paying:
      body = "<form method=\"post\" action=\"" + escape(pay_action) +
             "\"><button type=\"submit\" id=\"pay\" data-testid=\"pay\">确认支付 / "
             "Pay</button></form>";
      break;
    case SimOrder::State::paid:
      status =
          "<p class=\"done\" id=\"result\" data-testid=\"result\" role=\"status\">"
          "支付成功 / Paid</p>";
      if (!return_link.empty())
        body = "<a class=\"back\" id=\"back\" href=\"" + escape(return_link) +
               "\">返回商户 / Back to the shop</a>";
      break;
    default:
      status =
          "<p class=\"closed\" id=\"result\" data-testid=\"result\" role=\"status\">"
          "订单已关闭，无法支付 / This order is closed</p>";
  }
  return R"(<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>模拟支付 / Simulated payment</title>
<style>
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f5f5f5;color:#222}
main{max-width:420px;margin:0 auto;padding:24px 16px;text-align:center}
.brand{color:)" +
         colour + R"(;font-weight:600}
.amount{font-size:40px;font-weight:700;margin:16px 0 4px}
.what{color:#666;margin:0 0 24px;word-break:break-all}
button{width:100%;min-height:52px;font-size:20px;border:0;border-radius:8px;background:)" +
         colour + R"(;color:#fff}
.done{color:#07c160;font-size:22px;font-weight:600}
.closed{color:#c00;font-size:18px}
.back{display:block;margin-top:16px;font-size:18px}
.note{color:#999;font-size:13px;margin-top:32px}
</style>
</head>
<body>
<main>
<h1>模拟支付 / Simulated payment</h1>
<p class="brand">)" +
         brand + R"(</p>
<p class="amount" id="amount">¥)" +
         domain::Fen(order.total).format() + R"(</p>
<p class="what">)" +
         escape(order.description) + "<br>" + escape(order.out_trade_no) + R"(</p>
)" + status +
         body + R"(
<p class="note">测试环境，不会扣款 / Test environment: no money moves</p>
</main>
</body>
</html>
)";
}

}  // namespace yizhan::paysim
