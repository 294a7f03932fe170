#include "server/metrics.h"

#include <exception>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace bnmlp {
namespace {

// From 50 us (an empty call on loopback) to about 100 s (a long Train), by
// factors of about 2.5.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  for (double bound = 50e-6; bound < 120; bound *= 2.5) {
    buckets.push_back(bound);
  }
  return buckets;
}

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  return family;
}

prometheus::ClientMetric GaugeValue(
    int64_t value, std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = static_cast<double>(value);
  return metric;
}

// The gauges of ServerGauges, read at scrape time.
class GaugesCollector : public prometheus::Collectable {
 public:
  explicit GaugesCollector(std::function<ServerGauges()> read)
      : read_(std::move(read)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const ServerGauges gauges = read_();
    std::vector<prometheus::MetricFamily> families;
    families.push_back(GaugeFamily("bnmlp_models", "Models the server holds"));
    families.back().metric.push_back(GaugeValue(gauges.models));
    families.push_back(
        GaugeFamily("bnmlp_datasets", "Uploaded datasets the server holds"));
    families.back().metric.push_back(GaugeValue(gauges.datasets));
    families.push_back(GaugeFamily(
        "bnmlp_memory_bytes",
        "Bytes reserved from the memory budget, by what holds them"));
    for (const auto& [kind, bytes] : gauges.memory_bytes_by_kind) {
      families.back().metric.push_back(GaugeValue(bytes, {{"kind", kind}}));
    }
    families.push_back(GaugeFamily("bnmlp_memory_limit_bytes",
                                   "The memory budget (--max_memory_bytes)"));
    families.back().metric.push_back(GaugeValue(gauges.memory_limit_bytes));
    return families;
  }

 private:
  const std::function<ServerGauges()> read_;
};

}  // namespace

// One model's series; removed together by ForgetModel.
struct ServerMetrics::ModelSeries {
  prometheus::Counter* predict_rows = nullptr;
  prometheus::Gauge* samples_per_second = nullptr;
  prometheus::Gauge* loss = nullptr;
  prometheus::Gauge* validation_accuracy = nullptr;  // null until validated
  absl::flat_hash_map<std::string, prometheus::Counter*> trainings;
};

ServerMetrics::ServerMetrics(std::function<ServerGauges()> read_gauges)
    : latency_buckets_(LatencyBuckets()),
      registry_(std::make_shared<prometheus::Registry>()),
      gauges_collector_(
          std::make_shared<GaugesCollector>(std::move(read_gauges))),
      requests_(prometheus::BuildCounter()
                    .Name("bnmlp_rpc_requests_total")
                    .Help("Finished BnMlpService calls by method and status "
                          "code")
                    .Register(*registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("bnmlp_rpc_duration_seconds")
                     .Help("BnMlpService call latency in the server, by "
                           "method")
                     .Register(*registry_)),
      predict_rows_(prometheus::BuildCounter()
                        .Name("bnmlp_predict_rows_total")
                        .Help("Rows predicted, by model")
                        .Register(*registry_)),
      samples_per_second_(prometheus::BuildGauge()
                              .Name("bnmlp_training_samples_per_second")
                              .Help("Training throughput at the last epoch "
                                    "end, by model")
                              .Register(*registry_)),
      loss_(prometheus::BuildGauge()
                .Name("bnmlp_training_loss")
                .Help("Training loss at the last epoch end, by model")
                .Register(*registry_)),
      validation_accuracy_(
          prometheus::BuildGauge()
              .Name("bnmlp_training_validation_accuracy")
              .Help("Validation accuracy at the last epoch end, by model")
              .Register(*registry_)),
      trainings_(prometheus::BuildCounter()
                     .Name("bnmlp_trainings_total")
                     .Help("Finished Train runs by model and outcome")
                     .Register(*registry_)) {
  prometheus::BuildGauge()
      .Name("bnmlp_build_info")
      .Help("The server's version and git commit (always 1)")
      .Register(*registry_)
      .Add({{"version", std::string(ProjectVersion())},
            {"git", std::string(GitCommit())}})
      .Set(1);
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::OnFinished(const RpcOutcome& outcome) {
  CallSeries series;
  {
    WriterLock lock(&mu_);
    series = SeriesOf(outcome.method, outcome.status.code());
  }
  series.requests->Increment();
  series.duration->Observe(absl::ToDoubleSeconds(outcome.elapsed));
}

ServerMetrics::CallSeries ServerMetrics::SeriesOf(absl::string_view method,
                                                  absl::StatusCode code) {
  CallSeries& series = calls_[std::make_pair(std::string(method), code)];
  if (series.requests == nullptr) {
    const std::string name(method);
    series.requests = &requests_.Add(
        {{"method", name}, {"code", absl::StatusCodeToString(code)}});
    series.duration = &durations_.Add({{"method", name}}, latency_buckets_);
  }
  return series;
}

ServerMetrics::ModelSeries& ServerMetrics::SeriesOf(absl::string_view model) {
  std::unique_ptr<ModelSeries>& series = models_[model];
  if (series == nullptr) {
    series = std::make_unique<ModelSeries>();
    const prometheus::Labels labels{{"model", std::string(model)}};
    series->predict_rows = &predict_rows_.Add(labels);
    series->samples_per_second = &samples_per_second_.Add(labels);
    series->loss = &loss_.Add(labels);
  }
  return *series;
}

void ServerMetrics::AddPredictRows(absl::string_view model, int64_t rows) {
  WriterLock lock(&mu_);
  SeriesOf(model).predict_rows->Increment(static_cast<double>(rows));
}

void ServerMetrics::SetEpochFigures(absl::string_view model,
                                    const TrainingFigures& figures) {
  WriterLock lock(&mu_);
  ModelSeries& series = SeriesOf(model);
  series.samples_per_second->Set(figures.samples_per_second);
  series.loss->Set(figures.loss);
  if (figures.has_validation) {
    if (series.validation_accuracy == nullptr) {
      series.validation_accuracy =
          &validation_accuracy_.Add({{"model", std::string(model)}});
    }
    series.validation_accuracy->Set(figures.validation_accuracy);
  }
}

void ServerMetrics::CountTraining(absl::string_view model,
                                  absl::string_view outcome) {
  WriterLock lock(&mu_);
  ModelSeries& series = SeriesOf(model);
  prometheus::Counter*& counter = series.trainings[outcome];
  if (counter == nullptr) {
    counter = &trainings_.Add(
        {{"model", std::string(model)}, {"outcome", std::string(outcome)}});
  }
  counter->Increment();
}

void ServerMetrics::ForgetModel(absl::string_view model) {
  WriterLock lock(&mu_);
  auto it = models_.find(model);
  if (it == models_.end()) return;
  ModelSeries& series = *it->second;
  predict_rows_.Remove(series.predict_rows);
  samples_per_second_.Remove(series.samples_per_second);
  loss_.Remove(series.loss);
  if (series.validation_accuracy != nullptr) {
    validation_accuracy_.Remove(series.validation_accuracy);
  }
  for (auto& [outcome, counter] : series.trainings) trainings_.Remove(counter);
  models_.erase(it);
}

std::string ServerMetrics::Scrape() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& family : gauges_collector_->Collect()) {
    families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& address, const ServerMetrics& metrics) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("--metrics_address: cannot serve metrics on ", address,
                     ": ", error.what()));
  }
  exposer->RegisterCollectable(metrics.registry_);
  exposer->RegisterCollectable(metrics.gauges_collector_);
  return exposer;
}

}  // namespace bnmlp
