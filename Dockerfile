# The `aipa` binary on Debian 12, with the conformance suites it runs by default.
#
#   docker build -t aipa .
#   docker run --rm aipa conform                      # the embedded reference server
#   docker run --rm -e AIPA_ACCESS_KEY_ID -e AIPA_ACCESS_KEY_SECRET -v "$PWD:/work" -w /work \
#       aipa conform --target https://ecs.example.test --report-dir reports
#   docker run --rm -p 8080:8080 aipa serve --listen 0.0.0.0:8080 --fixtures
#
# Build stage: the release preset (gcc, optimised; warnings reported, not fatal), the
# binary only. Run stage: the runtime libraries and nothing else; the cases
# and profiles go where `aipa conform` looks next to its binary
# (../share/aipa/conformance).

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build pkg-config gcc libc6-dev \
      libmicrohttpd-dev libh2o-evloop-dev libcurl4-openssl-dev libxml2-dev libcjson-dev \
      libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY reference_impl reference_impl
COPY harness harness
COPY fuzz fuzz
COPY conformance conformance
RUN cmake --preset release -DBUILD_TESTING=OFF -DAIPA_WERROR=OFF \
 && cmake --build --preset release --target aipa \
 && build/release/aipa --help > /dev/null

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libh2o-evloop0.13 libcurl4 libxml2 libcjson1 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin aipa
COPY --from=build /src/build/release/aipa /usr/local/bin/aipa
COPY --from=build /src/conformance/cases /usr/local/share/aipa/conformance/cases
COPY --from=build /src/conformance/profiles /usr/local/share/aipa/conformance/profiles
COPY --from=build /src/conformance/baseline.example.json /usr/local/share/aipa/conformance/
USER aipa
ENTRYPOINT ["/usr/local/bin/aipa"]
CMD ["--help"]
